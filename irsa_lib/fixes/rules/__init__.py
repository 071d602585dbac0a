"""One fix builder per rule, grouped like the rules: trust policies, who reads values, Kubernetes objects."""
