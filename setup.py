"""tf_anc: Adaptive Neural Compilation and Neural TerpreT in TensorFlow/Keras."""

import os
import runpy

import setuptools
from setuptools.command.build_py import build_py


class BuildPyWithOps(build_py):
  """Also compiles the fused machine op library when TensorFlow is importable.

  pip's isolated build has no TensorFlow; there `make install` (or
  `python -m tf_anc.ops.build`) compiles the library after installation.
  """

  def run(self):
    super().run()
    try:
      import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
    except ImportError:
      print("tf_anc: TensorFlow is not importable at build time; run "
            "`python -m tf_anc.ops.build` after installing for the fused ops")
      return
    # Run as a file: importing tf_anc here would need its dependencies.
    ops_build = runpy.run_path(os.path.join("tf_anc", "ops", "build.py"))
    package_dir = os.path.join("" if self.editable_mode else self.build_lib,
                               "tf_anc", "ops")
    ops_build["build"](
        output=os.path.join(package_dir, ops_build["LIBRARY_NAME"]),
        source_dir="ops")


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
    # NTPT model files and their data: read by the compiler, not imported.
    package_data={"ntpt_keras": ["models/*.py", "models/data/*"]},
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
    cmdclass={"build_py": BuildPyWithOps},
)
