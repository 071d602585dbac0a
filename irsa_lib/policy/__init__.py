"""IAM policy evaluation, pure: documents in, allow / deny / conditional out, with the evidence.

Nothing here does I/O or knows about boto3, Kubernetes or graphs. ``parse_policy`` validates and
compiles a document once; ``evaluate`` decides one request against a ``PolicySet`` following AWS's
documented order, three-valued when the request context cannot be known.

>>> doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter",
...        "Resource": "arn:aws:ssm:us-east-1:111122223333:parameter/app/*"}]}
>>> role = Principal("arn:aws:iam::111122223333:role/app", "role", account_id="111122223333")
>>> req = Request(role, "ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/app/db")
>>> evaluate(req, PolicySet(identity=[parse_policy(doc, source="app-policy")])).outcome
'allow'
"""

from irsa_lib.policy.arn import normalize_resource, parameter_name, parse_arn, ssm_parameter_arn
from irsa_lib.policy.decision import Decision, StatementRef
from irsa_lib.policy.document import Policy, combine_policies, parse_policy
from irsa_lib.policy.errors import PolicyError
from irsa_lib.policy.evaluate import evaluate
from irsa_lib.policy.policyset import PolicySet
from irsa_lib.policy.principals import infer_principal
from irsa_lib.policy.request import Principal, Request
from irsa_lib.policy.sts import pod_identity_decision, pod_identity_requests, web_identity_request

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Principal",
    "Request",
    "StatementRef",
    "combine_policies",
    "evaluate",
    "infer_principal",
    "normalize_resource",
    "parameter_name",
    "parse_arn",
    "parse_policy",
    "pod_identity_decision",
    "pod_identity_requests",
    "ssm_parameter_arn",
    "web_identity_request",
]
