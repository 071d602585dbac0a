"""API-shaped responses as real AWS returns them (policy documents URL-encoded or JSON strings)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

ACCOUNT = "111122223333"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}]}

GAAD_ROLE = {
    "Path": "/",
    "RoleName": "node",
    "RoleId": "AROAEXAMPLENODE",
    "Arn": f"arn:aws:iam::{ACCOUNT}:role/node",
    "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(TRUST)),
    "InstanceProfileList": [],
    "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": urllib.parse.quote(json.dumps(READ))}],
    "AttachedManagedPolicies": [
        {
            "PolicyName": "AmazonSSMManagedInstanceCore",
            "PolicyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        }
    ],
    "Tags": [],
}

GAAD_AWS_POLICY = {
    "PolicyName": "AmazonSSMManagedInstanceCore",
    "PolicyId": "ANPAEXAMPLE",
    "Arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "Path": "/",
    "DefaultVersionId": "v2",
    "PolicyVersionList": [
        {"Document": urllib.parse.quote(json.dumps(READ)), "VersionId": "v2", "IsDefaultVersion": True},
        {"Document": urllib.parse.quote(json.dumps(TRUST)), "VersionId": "v1", "IsDefaultVersion": False},
    ],
}

POD_IDENTITY_SUMMARY = {
    "associations": [
        {
            "clusterName": "demo",
            "namespace": "payments",
            "serviceAccount": "api",
            "associationArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/demo/a-abcdefghijklmnop1",
            "associationId": "a-abcdefghijklmnop1",
        }
    ]
}
SESSION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}],
}
POD_IDENTITY_ASSOCIATION = {
    "association": {
        "clusterName": "demo",
        "namespace": "payments",
        "serviceAccount": "api",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/payments-pod",
        "associationArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/demo/a-abcdefghijklmnop1",
        "associationId": "a-abcdefghijklmnop1",
        "tags": {},
        "createdAt": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "modifiedAt": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "disableSessionTags": True,
        "targetRoleArn": "arn:aws:iam::444455556666:role/payments-reader",
        "externalId": "0f3a6c3e-5d1b-4c1e-9f51-2a1b2c3d4e5f",
        "policy": json.dumps(SESSION_POLICY),
    }
}
