"""`sign_grids`: the street-sign maze as a TensorFlow Datasets builder.

The maze of Figure 1 of Gaunt et al., "Differentiable Programs with Neural
Libraries" (2017; first circulated as Neural TerpreT), modelled by
`ntpt_keras/models/maze.py`: an agent starts on a W x H grid of street-sign
images and follows the signs until it meets a stop sign. The signs, which
are also the directions of the model's `dir` and `MOVE_X`/`MOVE_Y`, are

    0 stop, 1 east (x + 1), 2 north (y - 1), 3 west (x - 1), 4 south (y + 1),

x being the column and y the row (row 0 at the top), every move wrapping
around the grid's edges: east from x = W - 1 leads to x = 0, north from
y = 0 to y = H - 1.

An example is a grid with a path on it. The start (`init_X`, `init_Y`) is
uniform on the grid; from it a self-avoiding walk of `path_len` moves,
`path_len` uniform in [0, max_moves], is drawn one move at a time among the
directions leading to unvisited cells (and drawn again from the start if it
gets stuck). Every cell of the path but the last holds the sign of the move
taken from it, the last one a stop sign, and every other cell a sign drawn
uniformly among all five. Each sign is drawn by `draw_sign`, a hand-drawn-
looking 28x28 image (`glyphs.draw`), never the same twice. The features:

    img_grid          uint8 [H, W, 28, 28]    the images, img_grid[y, x]
    init_X, init_Y    int32                   the start
    final_X, final_Y  int32                   the stop sign the path ends on
    path_len          int32                   the number of moves
    is_halted_at_end  int32                   always 1: every path ends
    signs             int32 [H, W]            the images' classes

`signs` is there to evaluate a learned sign classifier; a model trained on
this data must learn from the images and the outputs only. The images are
stored as uint8 grey levels (`images` says how to read them as float32).

Everything is generated offline by `generate`, which `_generate_examples`
also uses (so numpy callers need no tfds). A config's `seed` fixes both
splits: the train split is drawn from `np.random.default_rng(2 * seed)` and
the test split from `np.random.default_rng(2 * seed + 1)`, one example after
the other and unshuffled, so the splits never share a generator (and never
an image) and a smaller split is a prefix of a larger one.

Usage, offline:

    import tensorflow_datasets as tfds
    import tf_anc_datasets  # Registers `sign_grids`.

    ds = tfds.load("sign_grids/maze_5x3", split="train")
    # Or, with nothing reaching for the network and a custom size:
    ds = tf_anc_datasets.sign_grids.load("maze_5x3", "test", num_examples=100)
    # Or plain numpy dicts:
    examples = tf_anc_datasets.sign_grids.generate("maze_5x3_small", "train")
"""

import dataclasses
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_anc_datasets import glyphs
from tf_anc_datasets import images
from tf_anc_datasets import offline

STOP, EAST, NORTH, WEST, SOUTH = range(5)
NUM_SIGNS = 5
SIGN_NAMES = ("stop", "east", "north", "west", "south")
IMAGE_SIZE = glyphs.IMAGE_SIZE

TRAIN = "train"
TEST = "test"
SPLITS = (TRAIN, TEST)

# (dx, dy) of each move: east is +x, north is -y (row 0 is the top row).
_STEPS = {EAST: (1, 0), NORTH: (0, -1), WEST: (-1, 0), SOUTH: (0, 1)}

_DESCRIPTION = """\
The street-sign maze of Figure 1 of "Differentiable Programs with Neural
Libraries" (Gaunt et al., 2017): a W x H grid of 28x28 hand-drawn-looking
street signs (0 stop, 1 east, 2 north, 3 west, 4 south). Following the signs
from (init_X, init_Y), with moves wrapping around the grid's edges, leads
along a self-avoiding path of path_len moves to a stop sign at
(final_X, final_Y); the cells off the path hold random signs. The `signs`
feature gives the images' classes, for evaluating a learned classifier only.
"""

_CITATION = """\
@inproceedings{gaunt2017differentiable,
  title={Differentiable Programs with Neural Libraries},
  author={Gaunt, Alexander L. and Brockschmidt, Marc and Kushman, Nate and
          Tarlow, Daniel},
  booktitle={Proceedings of the 34th International Conference on Machine
             Learning},
  year={2017}
}
"""

_HOMEPAGE = "https://arxiv.org/abs/1611.02109"


# The signs as strokes in the unit box (see glyphs.py), y pointing down.
def _octagon(radius: float) -> np.ndarray:
  angles = np.deg2rad(22.5 + 45 * np.arange(9))  # Closed: 9 points.
  return 0.5 + radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


# An octagon with a horizontal bar across it, like a no-entry sign.
_STOP_STROKES = (_octagon(0.33), np.array([[0.33, 0.5], [0.67, 0.5]]))
_EAST_ARROW_STROKES = (np.array([[0.18, 0.5], [0.82, 0.5]]),  # The shaft.
                       np.array([[0.6, 0.28], [0.82, 0.5], [0.6, 0.72]]))


def _quarter_turns(strokes, turns: int) -> Tuple[np.ndarray, ...]:
  """The strokes turned anticlockwise on screen by `turns` right angles."""
  result = []
  for stroke in strokes:
    offset = stroke - 0.5
    for _ in range(turns):  # With y down, (x, y) -> (y, -x) turns left.
      offset = np.stack([offset[:, 1], -offset[:, 0]], axis=-1)
    result.append(0.5 + offset)
  return tuple(result)


SIGN_STROKES = (_STOP_STROKES,) + tuple(
    _quarter_turns(_EAST_ARROW_STROKES, turns) for turns in range(4))


def draw_sign(sign: int, rng: np.random.Generator) -> np.ndarray:
  """A hand-drawn-looking image of `sign`: float32[28, 28] in [0, 1].

  Stop is an octagon crossed by a bar, the others arrows pointing their way
  (north up). Jittered from `rng` (`glyphs.Jitter`), so every call differs.
  """
  return glyphs.draw(SIGN_STROKES[sign], rng)


def move(x: int, y: int, direction: int, width: int,
         height: int) -> Tuple[int, int]:
  """(x, y) after a move in `direction`, like the model's MOVE_X, MOVE_Y."""
  dx, dy = _STEPS.get(direction, (0, 0))
  return (x + dx) % width, (y + dy) % height


def sample_path(rng: np.random.Generator, x: int, y: int, num_moves: int,
                width: int, height: int) -> List[int]:
  """The directions of a self-avoiding walk of `num_moves` moves from (x, y).

  Each move is uniform among the directions leading to unvisited cells; a
  walk that gets stuck is drawn again from the start. Since every cell of a
  torus grid starts a snake-like path through all cells, any `num_moves` <
  width * height is possible, and the loop ends.
  """
  if not 0 <= num_moves < width * height:
    raise ValueError(f"a self-avoiding walk on a {width}x{height} grid has "
                     f"at most {width * height - 1} moves, not {num_moves}")
  while True:
    cell, visited, directions = (x, y), {(x, y)}, []
    for _ in range(num_moves):
      options = [direction for direction in _STEPS
                 if move(*cell, direction, width, height) not in visited]
      if not options:
        break
      direction = options[rng.integers(len(options))]
      cell = move(*cell, direction, width, height)
      visited.add(cell)
      directions.append(direction)
    else:
      return directions


def sample_example(rng: np.random.Generator, width: int, height: int,
                   max_moves: int) -> Dict[str, np.ndarray]:
  """One grid and path (see the module docstring), as the builder's features.

  Draws, in order: the start, the path length, the path, the off-path signs
  and the images (row by row).
  """
  init_x, init_y = int(rng.integers(width)), int(rng.integers(height))
  path_len = int(rng.integers(max_moves + 1))
  directions = sample_path(rng, init_x, init_y, path_len, width, height)
  signs = rng.integers(NUM_SIGNS, size=(height, width)).astype(np.int32)
  x, y = init_x, init_y
  for direction in directions:
    signs[y, x] = direction
    x, y = move(x, y, direction, width, height)
  signs[y, x] = STOP
  img_grid = images.to_uint8(np.stack([
      np.stack([draw_sign(sign, rng) for sign in row]) for row in signs]))
  return {
      "img_grid": img_grid,
      "init_X": np.int32(init_x),
      "init_Y": np.int32(init_y),
      "final_X": np.int32(x),
      "final_Y": np.int32(y),
      "path_len": np.int32(path_len),
      "is_halted_at_end": np.int32(1),
      "signs": signs,
  }


def split_seed(seed: int, split: str) -> int:
  """The generator seed of `split`: 2*seed for train, 2*seed + 1 for test."""
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; the splits are "
                     f"{', '.join(SPLITS)}")
  return 2 * seed + SPLITS.index(split)


@dataclasses.dataclass(eq=False)
class SignGridsConfig(tfds.core.BuilderConfig):
  """A grid size, the longest path, the sizes of the splits and their seed.

  Attributes:
    width: W, the number of columns (x).
    height: H, the number of rows (y).
    max_moves: the longest path, in moves (< W * H, since paths never
      revisit a cell; the maze model counts them modulo its max_int = 15).
    num_train: the number of train examples.
    num_test: the number of test examples.
    seed: the splits' generators are seeded by `split_seed(seed, split)`.
  """
  width: int = 5
  height: int = 3
  max_moves: int = 12
  num_train: int = 1_000
  num_test: int = 1_000
  seed: int = 0

  def __post_init__(self):
    if self.width < 1 or self.height < 1:
      raise ValueError(f"the grid must be at least 1x1, got "
                       f"{self.width}x{self.height}")
    if not 0 <= self.max_moves < self.width * self.height:
      raise ValueError(f"max_moves must be in [0, {self.width * self.height}) "
                       f"on a {self.width}x{self.height} grid, got "
                       f"{self.max_moves}")
    for split, size in ((TRAIN, self.num_train), (TEST, self.num_test)):
      if size < 1:
        raise ValueError(f"num_{split} must be positive, got {size}")
    if self.seed < 0:
      raise ValueError(f"seed must be non-negative, got {self.seed}")
    if not self.description:
      self.description = (
          f"A {self.width}x{self.height} grid, paths of up to "
          f"{self.max_moves} moves, {self.num_train} train and "
          f"{self.num_test} test examples, seed {self.seed}.")

  def num_examples(self, split: str) -> int:
    return {TRAIN: self.num_train, TEST: self.num_test}[split]


class SignGrids(offline.OfflineBuilder):
  """Street-sign maze grids and their paths, generated offline."""

  VERSION = tfds.core.Version("2.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release.",
                   "2.0.0": "img_grid stored as uint8 (was float32)."}
  BUILDER_CONFIGS = [
      SignGridsConfig(name="maze_5x3", width=5, height=3, max_moves=12,
                      num_train=1_000, num_test=1_000, seed=0),
      SignGridsConfig(name="maze_5x3_small", width=5, height=3, max_moves=12,
                      num_train=200, num_test=200, seed=0),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    grid = (config.height, config.width)
    scalar = tfds.features.Scalar(dtype=np.int32)
    return tfds.core.DatasetInfo(
        builder=self,
        description=_DESCRIPTION,
        features=tfds.features.FeaturesDict({
            "img_grid": tfds.features.Tensor(
                shape=grid + (IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8),
            "init_X": scalar,
            "init_Y": scalar,
            "final_X": scalar,
            "final_Y": scalar,
            "path_len": scalar,
            "is_halted_at_end": scalar,
            "signs": tfds.features.Tensor(shape=grid, dtype=np.int32),
        }),
        supervised_keys=None,
        # Keep `generate`'s order, so that the data is its output.
        disable_shuffling=True,
        homepage=_HOMEPAGE,
        citation=_CITATION,
    )

  def _generate_examples(
      self, split: str) -> Iterator[Tuple[int, Dict[str, np.ndarray]]]:
    yield from enumerate(generate(self.builder_config, split))


def _config(config: Union[SignGridsConfig, str]) -> SignGridsConfig:
  if isinstance(config, SignGridsConfig):
    return config
  if config not in SignGrids.builder_configs:
    raise ValueError(f"unknown config {config!r}; the configs are "
                     f"{', '.join(SignGrids.builder_configs)}")
  return SignGrids.builder_configs[config]


def generate(config: Union[SignGridsConfig, str],
             split: str) -> Iterator[Dict[str, np.ndarray]]:
  """The examples of `split` of `config` (or a registered config's name).

  Yields `config.num_examples(split)` dicts of numpy arrays, the builder's
  features, drawn one after the other from
  `np.random.default_rng(split_seed(config.seed, split))`.
  """
  config = _config(config)
  rng = np.random.default_rng(split_seed(config.seed, split))
  for _ in range(config.num_examples(split)):
    yield sample_example(rng, config.width, config.height, config.max_moves)


def make_config(config_name: str, num_train: Optional[int] = None,
                num_test: Optional[int] = None) -> SignGridsConfig:
  """The registered config `config_name` with these split sizes.

  With the defaults (None) this is the registered config itself; otherwise
  a copy named `<config_name>_train<num_train>_test<num_test>`, so that it
  is prepared in its own directory.
  """
  registered = _config(config_name)
  num_train = registered.num_train if num_train is None else num_train
  num_test = registered.num_test if num_test is None else num_test
  if (num_train, num_test) == (registered.num_train, registered.num_test):
    # tfds refuses a new config object named like a registered one.
    return registered
  return dataclasses.replace(
      registered, name=f"{config_name}_train{num_train}_test{num_test}",
      description="", num_train=num_train, num_test=num_test)


def builder(config_name: str, data_dir: Optional[str] = None,
            num_train: Optional[int] = None,
            num_test: Optional[int] = None) -> SignGrids:
  """A `SignGrids` builder of `make_config(...)`, prepared offline."""
  result = SignGrids(config=make_config(config_name, num_train, num_test),
                     data_dir=data_dir)
  return offline.prepare(result)


def load(config_name: str, split: str = TRAIN,
         data_dir: Optional[str] = None,
         num_examples: Optional[int] = None) -> tf.data.Dataset:
  """The `split` of the registered config `config_name`, prepared offline.

  Prepares the data under `data_dir` (tfds' default when None) on first use,
  without any network access.

  Args:
    config_name: "maze_5x3" or "maze_5x3_small".
    split: "train" or "test".
    data_dir: where the prepared data lives.
    num_examples: the size of `split` (default: the config's). The other
      split gets at most as many examples (and never more than the
      config's), so that a small split builds quickly. Either way the
      examples are the first `num_examples` of the config's.

  Returns:
    A `tf.data.Dataset` of feature dicts (see the module docstring), in
    `generate` order.
  """
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}; the splits are "
                     f"{', '.join(SPLITS)}")
  registered = _config(config_name)
  sizes = {TRAIN: None, TEST: None}
  if num_examples is not None:
    sizes = {name: num_examples if name == split
             else min(registered.num_examples(name), num_examples)
             for name in SPLITS}
  return builder(config_name, data_dir=data_dir, num_train=sizes[TRAIN],
                 num_test=sizes[TEST]).as_dataset(split=split,
                                                  shuffle_files=False)
