"""The screens' decisions, without a terminal: plain values in, plain values out.

- ``incidents``: which incident keys act on the incident on screen, the list's filters and
  their cycle, stepping through the list, which incident stays current after a refresh.
- ``checklist``: what a checklist key does to a runbook run (a transition to record, a
  question to ask first, or a refusal that says why).

The screens draw what these say and ask the user; tests drive them with plain values.
"""
