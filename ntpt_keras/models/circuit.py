# A boolean circuit of learned gates (TerpreT tech report, Gaunt et al.
# 2016, section 4.2): each gate picks its type, its two input wires and the
# wire it overwrites; the first numOutputs wires are read at the end.
from dummy import Hyper, Param, Var, Runtime, Input, Output, Inline

numWires = Hyper()
numGates = Hyper()
numOutputs = Hyper()
numGateTypes = 5  # AND, OR, XOR, NOT, NOOP


@Runtime([2, 2], 2)
def AND(a, b): return a and b


@Runtime([2, 2], 2)
def OR(a, b): return a or b


@Runtime([2, 2], 2)
def XOR(a, b): return a ^ b


@Runtime([2], 2)
def NOT(a): return 1 - a


@Runtime([2], 2)
def NOOP(a): return a


@Runtime([numWires, numWires], 2)
def is_wire(a, b): return a == b


gate = Param(numGateTypes)[numGates]
in1 = Param(numWires)[numGates]
in2 = Param(numWires)[numGates]
out = Param(numWires)[numGates]

initial_wires = Input(2)[numWires]
final_wires = Output(2)[numOutputs]

wires = Var(2)[numGates + 1, numWires]
arg1 = Var(2)[numGates]
arg2 = Var(2)[numGates]
result = Var(2)[numGates]
overwrite = Var(2)[numGates, numWires]

for w in range(numWires):
    wires[0, w].set_to(initial_wires[w])

for g in range(numGates):
    with in1[g] as i:
        arg1[g].set_to(wires[g, i])
    with in2[g] as i:
        arg2[g].set_to(wires[g, i])
    if gate[g] == 0:
        result[g].set_to(AND(arg1[g], arg2[g]))
    elif gate[g] == 1:
        result[g].set_to(OR(arg1[g], arg2[g]))
    elif gate[g] == 2:
        result[g].set_to(XOR(arg1[g], arg2[g]))
    elif gate[g] == 3:
        result[g].set_to(NOT(arg1[g]))
    elif gate[g] == 4:
        result[g].set_to(NOOP(arg1[g]))
    for w in range(numWires):
        overwrite[g, w].set_to(is_wire(out[g], w))
        if overwrite[g, w] == 1:
            wires[g + 1, w].set_to(result[g])
        elif overwrite[g, w] == 0:
            wires[g + 1, w].set_to(wires[g, w])

for w in range(numOutputs):
    final_wires[w].set_to(wires[numGates, w])
