import numpy as np
import pytest

from tests.store_builder import add_sample
from vzero_data.store import open_store
from vzero_data.synth import make_scene
from vzero_data.views import (
    CropPolicy,
    InMemoryImagePool,
    SampleViews,
    ViewRejected,
    negative_view,
    positive_view,
    view_seed,
    write_views_folder,
)
from vzero_data.views.encoding import encode_rgb

STRATEGIES = ("downsampled_distractor", "masked", "shuffled", "cross_image")


def build_samples(n=3, size=256):
    scenes = [make_scene(5, i, size) for i in range(n)]
    pool = InMemoryImagePool({f"img{i}": np.asarray(s.image) for i, s in enumerate(scenes)})
    out = []
    for i, scene in enumerate(scenes):
        image, target, sid = np.asarray(scene.image), scene.target.box, f"sample-{i}"
        pos = positive_view(image, target, CropPolicy(margin_ratio=1.0), view_seed(sid, "crop", 0))
        views, rejects = [pos], []
        for name in STRATEGIES:
            # the last sample gets no pool, so its cross_image negative is rejected
            try:
                views.append(
                    negative_view(
                        name, image, target, None, view_seed(sid, name, 0), positive=pos,
                        pool=pool if i < n - 1 else None, image_sha256=f"img{i}",
                    )
                )  # fmt: skip
            except ViewRejected as exc:
                rejects.append({"strategy": name, "reason": exc.reason, "detail": exc.message})
        out.append(SampleViews(sid, image, target, views, question=scene.question, rejects=rejects))
    return out


@pytest.fixture(scope="session")
def samples():
    return build_samples()


@pytest.fixture
def views_dir(tmp_path, samples):
    write_views_folder(tmp_path / "views", samples, progress=False)
    return tmp_path / "views"


def write_store(root, samples, config_hash="cfg1"):
    """A store written by the real writer: each sample with its image, views and rejected negatives."""
    store = open_store(root, create=True)
    with store.writer("r1", config_hash) as w:
        for s in samples:
            add_sample(w, s.sample_id, encode_rgb(s.image), question=s.question, boxes=[s.target.to_list()])
            for v in s.views:
                w.add_view(s.sample_id, v.to_row(s.sample_id))
            for r in s.rejects:
                w.add_reject(s.sample_id, f"negative:{r['strategy']}", r["reason"], r["detail"])
            w.commit_sample(s.sample_id)
    return root
