"""Views that only render: the trust graph (pyvis, offline HTML), the report's tables and sections.

Everything here takes what the analysis computed (:mod:`irsa_lib.analysis`) and draws it; nothing
here collects, loads or analyses.
"""
