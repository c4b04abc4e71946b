"""The evidence audit: a teacher scores every stored view, flags the ones that carry no contrast, and
curation can reject them.

For every sample the teacher's log-prob of a reference answer (the label, or the teacher's own
answer with the crop) under each context: full image + positive crop, full image + each negative,
full image alone, crop alone, question alone (:mod:`vzero_core.vlm.option_scoring`, on the trainer's
shared-prefix replay). Rows go to the store's ``audits`` table keyed by the teacher's identity and
the audit's config hash (:mod:`.runner`, :mod:`.writer`); flags and gate weights come from
:mod:`.verdicts`; :mod:`.summary` and :mod:`.report` say what was found.
"""

from vzero_data.audit.config import AuditConfig, audit_hash
from vzero_data.audit.runner import AuditOutcome, run_audit
from vzero_data.audit.summary import summarize
from vzero_data.audit.verdicts import FLAGS

__all__ = ["FLAGS", "AuditConfig", "AuditOutcome", "audit_hash", "run_audit", "summarize"]
