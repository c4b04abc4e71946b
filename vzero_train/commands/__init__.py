"""One module per ``vzero-train`` subcommand (see :mod:`vzero_train.cli`)."""
