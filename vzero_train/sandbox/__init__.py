"""The evidence sandbox: tiny models trained here measure whether the gate and each negative view
change what a student learns (``vzero-train sandbox``)."""
