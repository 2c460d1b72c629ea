"""Calls: static builtins, Runtime, learned and inline functions."""

from tests.model_texts import with_header

# The model's body starts on line 9.
_HEADER = """\
n = 3
x = Input(n)
y = Output(n)


@Runtime([n], n)
def inc(a):
    return (a + 1) % n
"""


_compile, _error = with_header(_HEADER)


def _output(body):
  program = _compile(body)
  return program.nodes[program.outputs[("y", ())]]


def test_static_builtins_compute_on_ints():
  assert _output("y.set_to(min(max(0, 2), abs(-5), int(1)))\n").value == 1


def test_min_needs_two_arguments():
  assert _error("y.set_to(min())\n") == (
      "m.py:9:10: min takes 2 or more arguments, got 0")


def test_abs_takes_one_argument():
  assert _error("y.set_to(abs(1, 2))\n") == (
      "m.py:9:10: abs takes 1 argument, got 2")


def test_a_runtime_function_on_ints_is_its_table_entry():
  node = _output("y.set_to(inc(2))\n")
  assert (type(node).__name__, node.value) == ("Constant", 0)


def test_a_runtime_function_on_a_random_value_is_an_apply_node():
  node = _output("y.set_to(inc(x))\n")
  assert (type(node).__name__, node.function) == ("Apply", "inc")


def test_a_runtime_argument_outside_its_domain_is_refused():
  assert _error("y.set_to(inc(3))\n") == (
      "m.py:9:14: argument 1 of inc is 3, outside its domain [0, 3)")


def test_a_learned_function_is_a_learn_apply_node():
  node = _output("""\
      @Learn([n], n)
      def guess(a):
          pass
      y.set_to(guess(x))
      """)
  assert (type(node).__name__, node.function) == ("LearnApply", "guess")


def test_an_inline_function_is_compiled_in_place():
  node = _output("""\
      @Inline
      def twice(a):
          b = inc(a)
          return inc(b)
      y.set_to(twice(x))
      """)
  assert type(node).__name__ == "Apply" and node.function == "inc"


def test_a_recursive_inline_function_is_refused_at_its_call():
  assert _error("""\
      @Inline
      def loop(a):
          return loop(a)
      y.set_to(loop(x))
      """) == ("m.py:11:12: @Inline function loop calls itself (loop -> "
               "loop): inline functions are expanded, so they cannot recurse")


def test_mutually_recursive_inline_functions_name_the_cycle():
  assert "@Inline function ping calls itself (ping -> pong -> ping)" in (
      _error("""\
      @Inline
      def ping(a):
          return pong(a)
      @Inline
      def pong(a):
          return ping(a)
      y.set_to(ping(x))
      """))


def test_an_inline_function_may_call_another_twice():
  node = _output("""\
      @Inline
      def once(a):
          return inc(a)
      @Inline
      def twice(a):
          return once(once(a))
      y.set_to(twice(x))
      """)
  assert node.function == "inc"


def test_an_unknown_function_is_named():
  assert _error("y.set_to(dec(x))\n") == (
      "m.py:9:10: unknown function 'dec'")
