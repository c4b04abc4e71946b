"""``report.md``, ``report.json`` and ``report.html`` of a contamination check.

The HTML page is self-contained: each finding shows the training picture and the benchmark image
side by side (JPEG thumbnails inline), the matched region boxed in each.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from vzero_data.fingerprints.contamination import KINDS, ContaminationReport, Finding

FORMATS = ("md", "json", "html")
THUMBNAIL_SIDE = 420
MIN_BOX_PX = 14
HTML_MAX_FINDINGS = 300
KIND_TEXT = {
    "exact_bytes": "the same image file",
    "near_duplicate_image": "a near-duplicate image (resized, re-encoded, recoloured or slightly cropped)",
    "training_crop_in_benchmark": "a training picture found inside a benchmark image",
    "benchmark_region_in_training": "a benchmark image or target region found inside a training image",
}


def write_reports(report: ContaminationReport, out: Path, formats: Sequence[str], store) -> list[Path]:
    """Write the requested formats into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "json" in formats:
        path = out / "report.json"
        path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    if "md" in formats:
        path = out / "report.md"
        path.write_text(markdown(report), encoding="utf-8")
        written.append(path)
    if "html" in formats:
        path = out / "report.html"
        path.write_text(html_page(report, store), encoding="utf-8")
        written.append(path)
    return written


def _fmt_box(box: list[float] | None) -> str:
    return "-" if box is None else "[" + ", ".join(f"{v:g}" for v in box) + "]"


def _evidence(f: Finding) -> str:
    if f.method in ("exact", "phash"):
        return f"{f.method}, {f.distance} bits"
    if f.method == "features":
        return f"features, {f.inliers} inliers, pixel NCC {f.ncc:.2f}"
    return "mapped through the image match"


def markdown(report: ContaminationReport) -> str:
    lines = [f"# Benchmark contamination of `{report.store}`", ""]
    lines.append(
        f"pHash distance at most {report.max_distance} bits; region matching "
        f"{'on' if report.regions else 'off'}."
    )
    lines += ["", "| benchmark | format | images | target regions | " + " | ".join(KINDS) + " |"]
    lines.append("|---" * (4 + len(KINDS)) + "|")
    counts = report.counts()
    for b in report.benchmarks:
        c = counts.get(b["name"], {})
        lines.append(
            f"| {b['name']} | {b['format']} | {b['images']} | {b['target_regions']} | "
            + " | ".join(str(c.get(k, 0)) for k in KINDS)
            + " |"
        )
    for b in report.benchmarks:
        if b["skipped"]:
            lines += [
                "",
                f"{b['name']}: {len(b['skipped'])} entries skipped, e.g. {b['skipped'][0]['reason']}",
            ]
    for kind in KINDS:
        rows = [f for f in report.findings if f.kind == kind]
        if not rows:
            continue
        lines += ["", f"## {kind}: {KIND_TEXT[kind]} ({len(rows)})", ""]
        lines.append(
            "| benchmark | items | training samples | crop view | benchmark box | training box | evidence |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for f in rows:
            lines.append(
                f"| {f.benchmark} | {', '.join(f.item_ids[:3])}{' ...' if len(f.item_ids) > 3 else ''} | "
                f"{', '.join(f.sample_ids[:3])}{' ...' if len(f.sample_ids) > 3 else ''} | {f.view_id or '-'} | "
                f"{_fmt_box(f.benchmark_box)} | {_fmt_box(f.training_box)} | {_evidence(f)} |"
            )
    if not report.findings:
        lines += ["", "No training image or crop was found in any benchmark."]
    return "\n".join(lines) + "\n"


def thumbnail(data: bytes, box: list[float] | None, colour: str) -> str:
    """A JPEG data URI of the image at most ``THUMBNAIL_SIDE`` px with ``box`` drawn."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = min(1.0, THUMBNAIL_SIDE / max(image.size))
    if scale < 1.0:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    if box is not None:
        x1, y1, x2, y2 = (v * scale for v in box)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2  # a tiny target still gets a box one can see
        half_w, half_h = max((x2 - x1) / 2, MIN_BOX_PX / 2), max((y2 - y1) / 2, MIN_BOX_PX / 2)
        ImageDraw.Draw(image).rectangle(
            [cx - half_w, cy - half_h, cx + half_w, cy + half_h], outline=colour, width=3
        )
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def html_page(report: ContaminationReport, store) -> str:
    training_bytes: Callable[[str], bytes] = lambda sha: store.image_bytes([sha])[sha]  # noqa: E731
    bench_bytes: dict[tuple[str, str], Callable[[], bytes]] = {
        (name, img.sha256): img.encoded for name, src in report.sources.items() for img in src.images
    }
    cards = []
    for f in report.findings[:HTML_MAX_FINDINGS]:
        left = thumbnail(training_bytes(f.training_image), f.training_box, "#e6194b")
        right = thumbnail(bench_bytes[(f.benchmark, f.benchmark_image)](), f.benchmark_box, "#3cb44b")
        title = html.escape(f"{f.kind}: {KIND_TEXT[f.kind]}")
        meta = html.escape(
            f"benchmark {f.benchmark}, items {', '.join(f.item_ids[:4])}; training samples "
            f"{', '.join(f.sample_ids[:4])}{'; crop ' + f.view_id if f.view_id else ''}; {_evidence(f)}"
        )
        cards.append(
            f'<div class="card {f.kind}"><h3>{title}</h3><p>{meta}</p><div class="pair">'
            f'<figure><img src="{left}"><figcaption>training image {html.escape(f.training_image[:12])} '
            f"box {_fmt_box(f.training_box)}</figcaption></figure>"
            f'<figure><img src="{right}"><figcaption>benchmark image {html.escape(f.benchmark_image[:12])} '
            f"box {_fmt_box(f.benchmark_box)}</figcaption></figure></div></div>"
        )
    more = len(report.findings) - HTML_MAX_FINDINGS
    counts = html.escape(json.dumps(report.counts()))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Contamination of {html.escape(report.store)}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; background: #fafafa; }}
.card {{ background: white; border: 1px solid #ddd; border-radius: 6px; padding: 12px; margin: 16px 0; }}
.card h3 {{ margin: 0 0 4px 0; font-size: 16px; }}
.card p {{ margin: 0 0 8px 0; font-size: 13px; color: #444; }}
.pair {{ display: flex; gap: 16px; }}
figure {{ margin: 0; }}
figcaption {{ font-size: 12px; color: #555; }}
.exact_bytes h3, .near_duplicate_image h3 {{ color: #b00; }}
</style></head><body>
<h1>Benchmark contamination of {html.escape(report.store)}</h1>
<p>{len(report.findings)} findings by benchmark and kind: {counts}. Training picture on the left
(red box: the matched region), benchmark image on the right (green box).</p>
{"".join(cards) or "<p>No training image or crop was found in any benchmark.</p>"}
{f"<p>{more} more findings are in report.json.</p>" if more > 0 else ""}
</body></html>
"""
