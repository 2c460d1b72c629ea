"""Neural TerpreT: differentiable interpreters with learned neural functions."""
