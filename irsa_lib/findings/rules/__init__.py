"""The rule modules; each defines its rules' metadata beside their checks and a ``RULES`` tuple."""
