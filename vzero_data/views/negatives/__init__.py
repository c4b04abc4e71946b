"""Built-in negative-view strategies, one module each; :mod:`vzero_data.views.registry` lists them."""
