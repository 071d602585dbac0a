"""What would this change grant? A Terraform plan or changed manifests overlaid on a snapshot, analysed again.

The difference between the analysis of the snapshot and that of the overlay is the answer: access
rows gained, lost and changed, findings introduced and resolved (:mod:`irsa_lib.whatif.compare`).
"""
