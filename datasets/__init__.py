"""tfds builders of the project (installed as `tf_anc_datasets`)."""

from tf_anc_datasets import anc_tasks  # Registers the `anc_tasks` builder.
