"""Cohort import: a real cohort's answers and friendships into a cohort file (docs/cohort.md).

`responses` reads and checks the answer sheet and the friendship survey; `scoring` estimates
each student's latent score with the model's graded response model (EAP, fixed item
parameters); `importer` pseudonymises the ids and writes the cohort file that a scenario
names as ``cohort.data`` (read by :mod:`groupsim.scenario.cohort_file`, used by
:mod:`groupsim.model.roster`).
"""
