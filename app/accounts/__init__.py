"""Staff accounts: who may sign in, with which role."""

from .service import MAX_PASSWORD, MIN_PASSWORD, Accounts, User, password_problem

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "Accounts", "User", "password_problem"]
