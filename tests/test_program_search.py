"""Discrete local search over programs, alone and after training."""

import dataclasses
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from tf_anc import lang
from tf_anc import reference
from tf_anc import tasks
from tf_anc.training import program_search
from tf_anc.training.config import LossWeights, TrainingConfig
from tf_anc.training.trainer import Trainer, train_and_evaluate
from tf_anc_datasets import anc_distributions

ACCESS = tasks.TASKS["access"]


def access_examples(count, seed):
  return anc_distributions.sample("access", "biased", count, seed=seed)


def generic_access():
  return lang.load_program(tasks.program_path(ACCESS), ACCESS.memory_size)


def test_annealing_finds_a_faster_program_right_on_fresh_inputs():
  examples = access_examples(20, seed=1)
  found = program_search.anneal(generic_access(), examples,
                                ACCESS.max_steps, steps=2000, seed=0,
                                faster_than=5.0)
  assert found is not None and found.mean_steps < 5.0
  assert program_search.score(found.program, examples,
                              ACCESS.max_steps) == (0.0, found.mean_steps)
  # Constant folding holds on the whole biased distribution, not only on
  # the inputs searched.
  inputs, targets, masks = access_examples(300, seed=2)
  for memory, target, mask in zip(inputs, targets, masks):
    execution = reference.run(found.program, memory, ACCESS.max_steps)
    assert (np.asarray(execution.memory)[mask] == target[mask]).all()
    assert execution.steps < 5


def test_annealing_is_fixed_by_its_seed():
  examples = access_examples(10, seed=1)
  runs = [program_search.anneal(generic_access(), examples, ACCESS.max_steps,
                                steps=300, seed="3/1", faster_than=5.0)
          for _ in range(2)]
  assert runs[0] == runs[1]


def test_annealing_returns_nothing_when_nothing_beats_the_bound():
  assert program_search.anneal(generic_access(), access_examples(5, seed=1),
                               ACCESS.max_steps, steps=200, seed=0,
                               faster_than=1.0) is None


def test_the_search_runs_each_distinct_input_once():
  inputs = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4]])
  targets, masks = inputs + 1, inputs > 0
  distinct = program_search.distinct_examples(inputs, targets, masks, 10)
  assert distinct[0].tolist() == [[1, 2], [3, 4], [5, 6]]
  assert distinct[1].tolist() == [[2, 3], [4, 5], [6, 7]]
  assert len(program_search.distinct_examples(inputs, targets, masks,
                                              2)[0]) == 2


def test_rows_past_a_programs_end_become_stop_lines_to_search():
  padded = program_search.padded(generic_access())
  assert len(padded.operations) == ACCESS.memory_size
  inputs, targets, masks = access_examples(20, seed=4)
  assert program_search.score(padded, (inputs, targets, masks),
                              ACCESS.max_steps) == program_search.score(
                                  generic_access(), (inputs, targets, masks),
                                  ACCESS.max_steps)


@pytest.fixture(scope="module", name="searched")
def _searched(tmp_path_factory):
  model_dir = tmp_path_factory.mktemp("run")
  config = TrainingConfig(
      task="access", model_dir=str(model_dir),
      data_dir=str(tmp_path_factory.mktemp("tfds")), restarts=2,
      train_steps=2, test_examples=200, program_search_steps=2000,
      program_search_examples=20,
      loss_weights=LossWeights(correctness=10.0, halting=1.0))
  lines = []
  report = train_and_evaluate(config, log=lines.append)
  return config, report, lines


def test_after_training_the_restarts_are_replaced_by_faster_programs(
    searched):
  _, report, lines = searched
  assert "program search: 2 of 2 restarts replaced" in "\n".join(lines)
  for restart in report["restarts"]:
    assert restart["success"]
    assert restart["interpretability"] == 1
    assert restart["discrete_accuracy"] == 1.0
    assert restart["mean_steps"] < report["generic_mean_steps"]


def test_a_finished_run_started_again_does_not_search_again(searched):
  config, report, _ = searched
  lines = []
  again = train_and_evaluate(config, log=lines.append)
  assert not any(line.startswith("program search") for line in lines)
  assert [r["program"] for r in again["restarts"]] == [
      r["program"] for r in report["restarts"]]


def test_a_run_checkpointed_before_the_program_search_resumes_with_it(
    searched, tmp_path):
  config, _, _ = searched
  trainer = Trainer(dataclasses.replace(config, model_dir=str(tmp_path)),
                    log=lambda line: None)
  trainer.step.assign(config.train_steps)
  # What a run of an earlier version saved: no record of a search.
  older = tf.train.Checkpoint(step=trainer.step,
                              controller=trainer.machine.controller,
                              optimizer=trainer.optimizer)
  older.save(os.path.join(tmp_path, "checkpoints", "ckpt"))
  assert trainer.restore() == config.train_steps
  assert not trainer.programs_searched.numpy()



def test_the_search_and_the_evaluation_are_stages_with_their_seconds(
    searched):
  _, _, lines = searched
  stages = [line for line in lines if not line.startswith("step ")]
  assert stages[0] == ("program search: 2 chains of 2000 annealing steps "
                       "on 20 distinct train inputs...")
  assert re.fullmatch(r"program search: 2 of 2 restarts replaced by a "
                      r"faster program right on 20 distinct train inputs "
                      r"\(\d+\.\d s\)", stages[1])
  assert stages[2] == "evaluation: 2 restarts on 200 test examples..."
  assert re.fullmatch(r"evaluation: 2 of 2 restarts succeeded \(\d+\.\d s\)",
                      stages[3])


def test_results_say_how_long_each_stage_took(searched):
  _, report, _ = searched
  assert set(report["seconds"]) == {"train", "program_search", "evaluation"}
  assert all(seconds > 0 for seconds in report["seconds"].values())


def test_without_training_the_search_alone_adapts_the_compiled_program(
    searched, tmp_path):
  config, _, _ = searched
  lines = []
  report = train_and_evaluate(
      dataclasses.replace(config, model_dir=str(tmp_path), method="search"),
      log=lines.append)
  assert not any(line.startswith("step") for line in lines)
  assert report["seconds"]["train"] is None
  assert all(restart["success"] and restart["discrete_accuracy"] == 1.0
             for restart in report["restarts"])


def test_a_guided_search_also_searches_from_each_restarts_argmax_program(
    searched, tmp_path):
  config, _, _ = searched
  lines = []
  report = train_and_evaluate(
      dataclasses.replace(config, model_dir=str(tmp_path),
                          method="guided",
                          program_search_steps=6000),
      log=lines.append)
  assert "program search: 2 of 2 restarts replaced" in "\n".join(lines)
  assert all(restart["success"] for restart in report["restarts"])
