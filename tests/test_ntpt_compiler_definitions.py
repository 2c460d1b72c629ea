"""Definitions: declarations and @Runtime, @Learn and @Inline functions."""

from tests.model_texts import with_header

# The model's body starts on line 4.
_HEADER = "n = 3\nx = Input(n)\ny = Output(n)\n"


_compile, _error_of = with_header(_HEADER)


def _error(body) -> str:
  return _error_of(body + "y.set_to(0)\n")


def test_a_declaration_has_a_kind_a_range_and_a_shape():
  program = _compile("v = Var(n)[2, 4]\ny.set_to(0)\n")
  declaration = program.declarations["v"]
  assert (declaration.kind, declaration.size, declaration.shape,
          declaration.line) == ("Var", 3, (2, 4), 4)


def test_a_declaration_size_must_be_positive():
  assert _error("v = Var(0)\n") == (
      "m.py:4:9: v: the size of a Var must be in [1, 65536], got 0")


def test_an_array_dimension_must_be_positive():
  assert _error("v = Var(n)[2, -1]\n") == (
      "m.py:4:15: v: an array dimension must be in [1, 65536], got -1")


def test_a_runtime_function_is_tabulated_over_its_domains():
  program = _compile("""\
      @Runtime([n, 2], n)
      def pick(a, b):
          return a if b else 0
      y.set_to(0)
      """)
  assert program.runtime_functions["pick"].table.tolist() == [
      [0, 0], [0, 1], [0, 2]]


def test_a_runtime_function_uses_the_model_constants():
  program = _compile("""\
      @Runtime([n], n)
      def last(a):
          return n - 1
      y.set_to(0)
      """)
  assert program.runtime_functions["last"].table.tolist() == [2, 2, 2]


def test_a_runtime_body_python_refuses_is_located_in_the_body():
  assert _error("""\
      @Runtime([n], n)
      def f(a):
          nonlocal b
          return a
      """) == "m.py:6:5: Runtime function f: no binding for nonlocal 'b' found"


def test_await_in_a_runtime_body_is_located():
  assert _error("""\
      @Runtime([n], n)
      def f(a):
          await a
      """) == "m.py:6:5: Runtime function f: 'await' outside async function"


def test_raising_system_exit_in_a_runtime_body_is_an_error():
  assert _error("""\
      @Runtime([n], n)
      def f(a):
          raise SystemExit(1)
      """) == ("m.py:5:1: Runtime function f raised SystemExit: 1 for "
               "arguments (0)")


def test_an_undefined_default_of_a_runtime_function_is_an_error():
  assert _error("""\
      @Runtime([n], n)
      def f(a=zz):
          return a
      """) == ("m.py:5:1: Runtime function f raised NameError: name 'zz' is "
               "not defined when defined")


def test_a_runtime_result_of_another_type_is_shown():
  assert _error("""\
      @Runtime([n], n)
      def f(a):
          return 0.5
      """) == ("m.py:5:1: Runtime function f returned 0.5 for arguments (0), "
               "outside its range [0, 3)")


def test_a_learned_function_keeps_its_inputs_and_hidden_sizes():
  program = _compile("""\
      @Learn([Tensor(2, 3), n], 4, hid_sizes=[8, 5])
      def net(image, a):
          pass
      y.set_to(0)
      """)
  function = program.learned_functions["net"]
  assert (function.input_width, function.size, function.hidden_sizes) == (
      9, 4, (8, 5))


def test_a_negative_tensor_dimension_is_refused():
  assert _error("""\
      @Learn([Tensor(-1, 2)], n)
      def f(image):
          pass
      """) == ("m.py:4:16: a tensor dimension of f must be in [1, 65536], "
               "got -1")


def test_a_negative_hidden_size_is_refused():
  assert _error("""\
      @Learn([n], n, hid_sizes=[-5])
      def f(a):
          pass
      """) == ("m.py:4:27: a hidden size of f must be in [1, 65536], got -5")


def test_a_learned_function_needs_an_input():
  assert _error("""\
      @Learn([], n)
      def f():
          pass
      """) == "m.py:4:2: learned function f declares no inputs"


def test_a_signature_is_a_list_literal():
  assert _error("""\
      @Runtime([100000] * 3, 2)
      def f(a, b, c):
          return 0
      """) == "m.py:4:10: expected a list [...], not [100000] * 3"


def test_a_static_top_level_if_chooses_a_variant():
  body = """\
      wide = Hyper()
      if wide:
          v = Var(n)[4]
      else:
          v = Var(n)[2]
      y.set_to(0)
      """
  assert _compile(body, hypers={"wide": 1}).declarations["v"].shape == (4,)
  assert _compile(body, hypers={"wide": 0}).declarations["v"].shape == (2,)
