"""Lifelong learning over the 2x2 tasks (NTPT paper, sections 4-6).

  config (LifelongConfig) ──trainer──▶ schedule: one task's batch per step
      ──▶ learners: NTPT (programs over a shared neural library) and the
          neural baselines (indep., PNN, MTNN-1, MTNN-2)
      ──▶ accuracy curves (TensorBoard), report: results.json, figure7.md,
          figure6.png; NTPT's models as SavedModels

Run it with `python -m tf_anc.train --flagfile=configs/ntpt/lifelong.flags`.
"""
