"""The differentiable machine: controller, soft step and the unrolled loop."""

from tf_anc.machine.controller import Controller
from tf_anc.machine.soft_machine import DEFAULT_ETA_STOP, SoftMachine
from tf_anc.machine.step import Command, MachineState, alu, machine_step
