"""scaffold: project scaffolding from your team's templates and written knowledge.

The command line (`scaffold`) is one client of this package. Importing it stays cheap:
Copier and the Anthropic SDK are imported only by the stages that need them.
"""

__version__ = "0.1.0"
