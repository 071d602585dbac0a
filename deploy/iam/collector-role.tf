# The collector role in the account that runs the report (the management account or a delegated
# administrator for AWS Organizations): the CronJob's pods and the Dask workers get it through IRSA
# (the ServiceAccount irsa/irsa-collector, deploy/kubernetes/serviceaccount.yaml). It lists the
# organisation and reads its SCPs/RCPs, and assumes the member role in every account; the rest of
# deploy/collector-policy.json (the whole read-only allow-list) is attached for its own account.

variable "oidc_provider_arn" {
  type        = string
  description = "IAM OIDC provider of the EKS cluster running the report (arn:aws:iam::<id>:oidc-provider/oidc.eks...)"
}

variable "oidc_issuer_host" {
  type        = string
  description = "The issuer without https:// (oidc.eks.<region>.amazonaws.com/id/<ID>)"
}

variable "member_role_name" {
  type    = string
  default = "irsa-collector"
}

resource "aws_iam_role" "collector" {
  name = "irsa-collector-hub"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${var.oidc_issuer_host}:sub" = "system:serviceaccount:irsa:irsa-collector"
          "${var.oidc_issuer_host}:aud" = "sts.amazonaws.com"
        }
      }
    }]
  })
}

resource "aws_iam_role_policy" "collector" {
  name   = "irsa-collector-read-only"
  role   = aws_iam_role.collector.id
  policy = file("${path.module}/../collector-policy.json")
}

resource "aws_iam_role_policy" "assume_members" {
  name = "irsa-collector-assume-members"
  role = aws_iam_role.collector.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sts:AssumeRole"
      Resource = "arn:aws:iam::*:role/${var.member_role_name}"
    }]
  })
}

output "collector_role_arn" {
  value = aws_iam_role.collector.arn
}
