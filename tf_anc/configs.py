"""Lists the experiments' flagfiles shipped with the package.

  python -m tf_anc.configs           # name and installed path of each
  python -m tf_anc.configs anc/listk # the path of one, for --flagfile=

Run one with `python -m tf_anc.train --flagfile=PATH`; flags given after
it override its values. The same files are `configs/` in a checkout.
"""

import sys

from tf_anc import shipped


def main(argv=None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  files = {shipped.relative(path)[:-len(shipped.FLAGFILE_SUFFIX)]: path
           for path in shipped.flagfiles()}
  if argv and argv[0] in ("-h", "--help"):
    print(__doc__.strip())
    return 0
  if not argv:
    width = max(map(len, files))
    for name, path in files.items():
      print(f"{name:<{width}}  {path}")
    return 0
  missing = [name for name in argv
             if name.removesuffix(shipped.FLAGFILE_SUFFIX) not in files]
  if missing:
    print(f"tf_anc.configs: error: no shipped flagfile {', '.join(missing)} "
          f"(`python -m tf_anc.configs` lists them)", file=sys.stderr)
    return 2
  for name in argv:
    print(files[name.removesuffix(shipped.FLAGFILE_SUFFIX)])
  return 0


if __name__ == "__main__":
  sys.exit(main())
