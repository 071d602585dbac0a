# The change the demo's what-if reviews (plan.json is its `terraform show -json`, with the demo
# cluster's OIDC issuer filled in when the demo runs). Two mistakes a reviewer should catch:
# the payments service role now trusts every service account of the cluster, and a new
# SecureString is encrypted with the AWS managed aws/ssm key.

variable "region" {
  default = "us-east-1"
}

variable "reporting_api_key" {
  type      = string
  sensitive = true
}

data "aws_eks_cluster" "demo" {
  name = "demo"
}

data "aws_iam_openid_connect_provider" "demo" {
  url = data.aws_eks_cluster.demo.identity[0].oidc[0].issuer
}

data "aws_iam_policy_document" "payments_trust" {
  statement {
    sid     = "Controller"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:role/external-secrets-role"]
    }
  }
  statement {
    sid     = "AnyWorkload"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [data.aws_iam_openid_connect_provider.demo.arn]
    }
    condition {
      test     = "StringLike"
      variable = "${trimprefix(data.aws_eks_cluster.demo.identity[0].oidc[0].issuer, "https://")}:sub"
      values   = ["system:serviceaccount:*:*"]
    }
    condition {
      test     = "StringEquals"
      variable = "${trimprefix(data.aws_eks_cluster.demo.identity[0].oidc[0].issuer, "https://")}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "payments_service" {
  name               = "payments-service-role"
  assume_role_policy = data.aws_iam_policy_document.payments_trust.json
}

resource "aws_ssm_parameter" "reporting_api_key" {
  name        = "/reporting/api-key"
  description = "API key of the reporting exporter"
  type        = "SecureString"
  value       = var.reporting_api_key
}
