"""tfds builders of the project (installed as `tf_anc_datasets`)."""
