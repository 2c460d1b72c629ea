"""tfds builders of the project (installed as `tf_anc_datasets`)."""

from tf_anc_datasets import anc_tasks  # Registers the `anc_tasks` builder.
from tf_anc_datasets import digits
from tf_anc_datasets import glyphs
from tf_anc_datasets import grids2x2  # Registers the `grids2x2` builder.
from tf_anc_datasets import math_tapes  # Registers the `math_tapes` builder.
from tf_anc_datasets import operators
from tf_anc_datasets import sign_grids  # Registers the `sign_grids` builder.
