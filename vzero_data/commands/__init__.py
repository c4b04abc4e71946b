"""One module per ``vzero-data`` subcommand (see :mod:`vzero_data.cli`)."""
