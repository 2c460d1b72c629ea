"""tf_anc: Adaptive Neural Compilation and Neural TerpreT in TensorFlow/Keras."""

import setuptools

# tensorflow-cpu is the same TensorFlow without the GPU libraries: a much
# smaller download where it exists (Linux x86-64); elsewhere plain tensorflow.
_CPU_WHEEL = "platform_system == 'Linux' and platform_machine == 'x86_64'"
_OTHER_PLATFORMS = "platform_system != 'Linux' or platform_machine != 'x86_64'"

setuptools.setup(
    name="tf_anc",
    version="0.1.0",
    description=("Adaptive Neural Compilation and Neural TerpreT as "
                 "TensorFlow/Keras models"),
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=(setuptools.find_packages(include=["tf_anc", "tf_anc.*",
                                                "ntpt_keras", "ntpt_keras.*"])
              + ["tf_anc_datasets"]),
    # The tfds builders live in datasets/ but import as tf_anc_datasets, so
    # they never shadow the Hugging Face `datasets` package.
    package_dir={"tf_anc_datasets": "datasets"},
    install_requires=[
        f"tensorflow-cpu>=2.16; {_CPU_WHEEL}",
        f"tensorflow>=2.16; {_OTHER_PLATFORMS}",
        "keras>=3",
        "numpy",
        "tensorflow-datasets",
        "absl-py",
        "tensorboard",  # tf.summary's writers; tensorflow-cpu leaves it out
    ],
    extras_require={"test": ["pytest"]},
)
