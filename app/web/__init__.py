"""The web layer: blueprints that turn requests into commands and queries, on a small kit
(kit/: rendering, outcomes, access, errors), with forms (forms/) and the appointment
action table (actions.py); `wiring.init_app` puts them into the app. The package itself
imports nothing, so that one module of it (the action table, in unit tests) imports
without Flask."""
