"""The model layer: the Mesa model, its agents, mechanisms, measures, calendar and tie store.

Imports nothing from the layers above it (`runs`, `study`, `sweep`, `teach`, `cli`). Import the
modules themselves (`groupsim.model.mechanisms`, `groupsim.model.model`); this package file
stays empty so that importing a light module does not load Mesa.
"""
