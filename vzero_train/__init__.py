"""vzero_train: V-Zero gated on-policy distillation over vzero stores."""
