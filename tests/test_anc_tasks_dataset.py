"""The `anc_tasks` tfds builder: one config per task and distribution, offline."""

import socket

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import tf_anc_datasets  # Registers `anc_tasks`.
from tf_anc_datasets import anc_distributions
from tf_anc_datasets import anc_tasks

ALL_DISTRIBUTIONS = [(task.name, distribution)
                     for task in anc_distributions.TASKS.values()
                     for distribution in task.distributions]
SMALL = 20  # Examples per split where the size does not matter.


@pytest.fixture
def offline(monkeypatch):
  """Any attempt to open a network connection fails the test."""

  def refuse(*args, **kwargs):
    raise AssertionError(f"network access attempted: {args} {kwargs}")

  monkeypatch.setattr(socket.socket, "connect", refuse)
  monkeypatch.setattr(socket, "create_connection", refuse)


def _arrays(dataset):
  """A dataset of dicts as (inputs, targets, masks) numpy arrays."""
  examples = list(tfds.as_numpy(dataset))
  return tuple(np.stack([example[key] for example in examples])
               for key in ("input", "target", "mask"))


def _small_builder(task, distribution, data_dir, seed=None):
  return anc_tasks.builder(task, distribution, data_dir=str(data_dir),
                           num_train=SMALL, num_test=SMALL, seed=seed)


def _split(builder, split):
  return _arrays(builder.as_dataset(split=split, shuffle_files=False))


def test_importing_the_package_registers_the_builder():
  assert "anc_tasks" in tfds.list_builders()
  assert tf_anc_datasets.anc_tasks.AncTasks.name == "anc_tasks"


def test_every_task_and_distribution_has_a_config_named_task_distribution():
  configs = anc_tasks.AncTasks.builder_configs
  assert sorted(configs) == sorted(f"{task}_{distribution}"
                                   for task, distribution in ALL_DISTRIBUTIONS)
  for task, distribution in ALL_DISTRIBUTIONS:
    config = configs[anc_tasks.config_name(task, distribution)]
    assert (config.task, config.distribution) == (task, distribution)
    assert (config.num_train, config.num_test) == (10_000, 1_000)


def test_config_names_include_the_paper_tasks_and_the_listk_variant():
  configs = anc_tasks.AncTasks.builder_configs
  for name in ("access_biased", "access_unbiased", "listk_biased",
               "listk_biased_k_upto_l", "addition_unbiased",
               "shortest_path_biased"):
    assert name in configs
  assert "addition_biased" not in configs


def test_config_description_says_which_task_and_memory_size():
  config = anc_tasks.AncTasks.builder_configs["listk_biased"]
  assert config.description.startswith("listk, biased distribution (M = 20")
  assert "k-th node" in config.description


def test_config_name_of_an_unknown_task_raises_naming_the_tasks():
  with pytest.raises(ValueError, match="unknown task 'lisk'.*listk"):
    anc_tasks.config_name("lisk", "biased")


def test_config_name_of_an_unknown_distribution_raises_naming_the_valid_ones():
  with pytest.raises(ValueError,
                     match="'biased' for task 'addition'.*are unbiased$"):
    anc_tasks.config_name("addition", "biased")


def test_load_of_an_unknown_task_or_distribution_raises(tmp_path):
  with pytest.raises(ValueError, match="unknown task"):
    anc_tasks.load("nope", "biased", data_dir=str(tmp_path))
  with pytest.raises(ValueError, match="unknown distribution"):
    anc_tasks.load("access", "biased_k_upto_l", data_dir=str(tmp_path))


def test_tfds_load_builds_a_registered_config_offline(tmp_path, offline):
  dataset, info = tfds.load("anc_tasks/access_biased", data_dir=str(tmp_path),
                            split="test", with_info=True)
  assert info.splits["train"].num_examples == 10_000
  assert info.splits["test"].num_examples == 1_000
  inputs, targets, _ = _arrays(dataset)
  expected = anc_distributions.sample("access", "biased", 1_000,
                          anc_tasks.split_seed(0, "test"))
  np.testing.assert_array_equal(inputs, expected[0])
  np.testing.assert_array_equal(targets, expected[1])


def test_features_are_int32_input_and_target_and_bool_mask_of_size_m(
    tmp_path):
  dataset = anc_tasks.load("sort", "unbiased", "test", data_dir=str(tmp_path),
                           num_examples=SMALL)
  memory = tf.TensorSpec(shape=(21,), dtype=tf.int32)
  assert dataset.element_spec == {
      "input": memory, "target": memory,
      "mask": tf.TensorSpec(shape=(21,), dtype=tf.bool)}


@pytest.mark.parametrize("task,distribution", ALL_DISTRIBUTIONS)
def test_examples_are_tasks_sample_with_the_split_seed(task, distribution,
                                                       tmp_path):
  builder = _small_builder(task, distribution, tmp_path)
  for split in ("train", "test"):
    expected = anc_distributions.sample(task, distribution, SMALL,
                            anc_tasks.split_seed(0, split))
    for got, want in zip(_split(builder, split), expected):
      np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("task,distribution", ALL_DISTRIBUTIONS)
def test_targets_differ_from_inputs_only_on_masked_cells_and_stay_in_range(
    task, distribution, tmp_path):
  size = anc_distributions.TASKS[task].memory_size
  inputs, targets, masks = _split(
      _small_builder(task, distribution, tmp_path), "train")
  assert not np.any((inputs != targets) & ~masks)
  assert np.all(masks.any(axis=1))
  for memory in (inputs, targets):
    assert memory.min() >= 0 and memory.max() < size


def test_split_seeds_differ_for_every_split_and_seed():
  seeds = [anc_tasks.split_seed(seed, split)
           for seed in range(5) for split in ("train", "test")]
  assert len(set(seeds)) == len(seeds)


def test_train_and_test_splits_differ(tmp_path):
  builder = _small_builder("listk", "unbiased", tmp_path)
  train, test = _split(builder, "train"), _split(builder, "test")
  assert not np.array_equal(train[0], test[0])


def test_building_twice_gives_identical_data(tmp_path):
  first = _small_builder("swap", "unbiased", tmp_path / "first")
  second = _small_builder("swap", "unbiased", tmp_path / "second")
  for split in ("train", "test"):
    for a, b in zip(_split(first, split), _split(second, split)):
      np.testing.assert_array_equal(a, b)


def test_another_seed_gives_other_data(tmp_path):
  default = _small_builder("increment", "unbiased", tmp_path)
  other = _small_builder("increment", "unbiased", tmp_path, seed=7)
  assert not np.array_equal(_split(default, "test")[0],
                            _split(other, "test")[0])


def test_custom_sizes_are_a_config_of_their_own_named_after_them():
  config = anc_tasks.make_config("listk", "biased", num_train=50,
                                 num_test=200)
  assert config.name == "listk_biased_train50_test200_seed0"
  assert anc_tasks.make_config("listk", "biased") is (
      anc_tasks.AncTasks.builder_configs["listk_biased"])


def test_load_num_examples_gives_the_first_examples_of_the_default_split(
    tmp_path, offline):
  dataset = anc_tasks.load("listk", "biased", "test", data_dir=str(tmp_path),
                           num_examples=50)
  expected = anc_distributions.sample("listk", "biased", 1_000,
                          anc_tasks.split_seed(0, "test"))
  for got, want in zip(_arrays(dataset), expected):
    np.testing.assert_array_equal(got, want[:50])


def test_load_num_examples_caps_the_other_split_at_as_many(tmp_path):
  anc_tasks.load("copy", "biased", "test", data_dir=str(tmp_path),
                 num_examples=30)
  builder = tfds.builder_from_directory(
      str(tmp_path / "anc_tasks" / "copy_biased_train30_test30_seed0"
          / "1.0.0"))
  assert builder.info.splits["train"].num_examples == 30
  assert builder.info.splits["test"].num_examples == 30


def test_load_of_an_unknown_split_raises(tmp_path):
  with pytest.raises(ValueError, match="unknown split 'validation'"):
    anc_tasks.load("access", "biased", "validation", data_dir=str(tmp_path))


def test_non_positive_sizes_are_rejected():
  with pytest.raises(ValueError, match="num_test must be positive"):
    anc_tasks.make_config("access", "biased", num_test=0)
