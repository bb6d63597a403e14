"""Sentences the rules give people, kept translatable without tying the rules to Flask.

A rule raises with a message *template* (English, ``%(name)s`` placeholders) and its
values; whoever shows it translates the template through the catalogs, then fills it in.
"""
from __future__ import annotations


def N_(template: str) -> str:
    """Mark a template for the catalogs (``pybabel extract`` finds ``N_``); returns it unchanged."""
    return template


class Message:
    """A template and its values; ``str()`` is the English sentence."""

    def __init__(self, template: str, **params):
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template

    def translated(self, gettext) -> str:
        """The sentence in the language of ``gettext`` (Flask-Babel's, in a request)."""
        return gettext(self.template, **self.params)
