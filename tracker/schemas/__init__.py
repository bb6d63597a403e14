"""marshmallow schemas and field types shared by the API, the pages and the importer.

They sit below every caller (``api/``, ``web/``, ``services/importing``), so that a
dossier line of an import file is read by the same rules as ``POST /dossiers``.
"""
