"""Previews of curated views: a PNG contact sheet and a self-contained HTML gallery.

```python
from vzero_data.preview import items_from_views_folder, items_from_store, write_preview
write_preview(items_from_views_folder("views_dir", n=8), "preview_out")
```
"""

from vzero_data.preview.items import PreviewItem, PreviewTile, item_from_sample_views, items_from_views_folder
from vzero_data.preview.render import contact_sheet, gallery_html, write_preview
from vzero_data.preview.store_items import items_from_store

__all__ = [
    "PreviewItem",
    "PreviewTile",
    "contact_sheet",
    "gallery_html",
    "item_from_sample_views",
    "items_from_store",
    "items_from_views_folder",
    "write_preview",
]
