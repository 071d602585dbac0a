"""Keys behind ``alias/aws/...`` are AWS managed, whatever the endpoint's KeyManager says."""

from __future__ import annotations

from irsa_lib.collect.kms import transform_key

META = {
    "Arn": "arn:aws:kms:us-east-1:123456789012:key/cb3f6250-5078-48c0-a75f-0290bf47694e",
    "KeyId": "cb3f6250-5078-48c0-a75f-0290bf47694e",
    "AWSAccountId": "123456789012",
    "KeyState": "Enabled",
}


def test_reserved_alias_means_aws_managed() -> None:
    # moto reports the aws/ssm key it creates on first use as CUSTOMER; KMS reserves alias/aws/ for AWS keys.
    key = transform_key({**META, "KeyManager": "CUSTOMER"}, region="us-east-1", aliases=("alias/aws/ssm",))
    assert key.manager == "AWS"


def test_customer_key_with_ordinary_alias_stays_customer() -> None:
    key = transform_key({**META, "KeyManager": "CUSTOMER"}, region="us-east-1", aliases=("alias/awsome", "alias/app"))
    assert key.manager == "CUSTOMER"
    assert transform_key({**META, "KeyManager": "AWS"}, region="us-east-1").manager == "AWS"
