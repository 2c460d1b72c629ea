"""Limits: sizes over the documented limits are refused before allocating."""

from ntpt_keras.lang import limits
from tests.model_texts import error_of

# The model's body starts on line 4.
_HEADER = "n = 3\nx = Input(n)\ny = Output(n)\n"


def _error(body, hypers=None) -> str:
  return error_of(body, _HEADER, hypers)


def test_a_dimension_over_the_size_limit_is_refused():
  assert _error("z = Output(2)[1000000, 1000000]\n") == (
      "m.py:4:15: z: an array dimension must be in [1, 65536], got 1000000")


def test_declarations_over_the_cell_limit_are_refused():
  assert _error("z = Var(2)[60000, 60000]\n") == (
      "m.py:4:5: declaring z takes the model to 3600000002 cells, over the "
      f"limit of {limits.MAX_CELLS}")


def test_declarations_over_the_value_limit_are_refused():
  assert _error("z = Var(60000)[1000]\n") == (
      "m.py:4:5: declaring z takes the model to 60000006 values, over the "
      f"limit of {limits.MAX_VALUES}")


def test_a_runtime_domain_over_the_size_limit_is_refused():
  assert _error("""\
      @Runtime([100000, 100000, 100000], 2)
      def f(a, b, c):
          return 0
      """) == ("m.py:4:11: an argument domain of f must be in [1, 65536], "
               "got 100000")


def test_runtime_tables_over_the_entry_limit_are_refused_before_tabulating():
  assert _error("""\
      @Runtime([1000, 1000], 2)
      def f(a, b):
          return 0
      """) == ("m.py:4:2: tabulating f takes the model to 2000000 table "
               f"entries, over the limit of {limits.MAX_TABLE_ENTRIES}")


def test_networks_over_the_weight_limit_are_refused():
  assert _error("""\
      @Learn([Tensor(1000, 1000)], n, hid_sizes=[100])
      def f(image):
          pass
      """) == ("m.py:4:2: the network of f takes the model to 100000403 "
               f"weights, over the limit of {limits.MAX_WEIGHTS}")


def test_unrolling_over_the_step_limit_is_refused():
  assert _error("""\
      for i in range(1000000):
          pass
      """) == (f"m.py:5:5: the model compiles more than {limits.MAX_STEPS} "
               "statements (loops unrolled, `with` bodies per value, inline "
               "calls)")


def test_inline_calls_over_the_step_limit_are_refused():
  # Each level doubles the calls: 2**20 inline expansions, no statement.
  levels = "".join(f"@Inline\ndef f{k}(a):\n    return f{k - 1}(f{k - 1}(a))\n"
                   for k in range(1, 21))
  assert "the model compiles more than" in _error(
      "@Inline\ndef f0(a):\n    return a\n" + levels + "y.set_to(f20(x))\n")


def test_a_hyper_over_the_static_int_range_is_refused():
  assert _error("m = Hyper()\n", {"m": 2**70}) == (
      "m.py:4:1: hyper 'm' has 71 bits, outside the static ints "
      "[-(2**63 - 1), 2**63 - 1]")


def test_nesting_deeper_than_python_can_compile_is_located():
  nested = "y.set_to(" + " + ".join(["0"] * 1000) + ")\n"
  assert _error(nested) == (
      "m.py:4:1: the model nests expressions, blocks or inline calls too "
      "deeply to compile")
