"""One module per grounding backend; see :mod:`vzero_data.grounding.registry` for their names."""
