# The read-only member role, in each account (the same as member-role.cloudformation.yaml).
# The collector role (collector-role.tf) assumes it with an external id.

variable "collector_role_arn" {
  type        = string
  description = "ARN of the collector role that assumes this one"
}

variable "external_id" {
  type        = string
  sensitive   = true
  description = "The external id the collector sends (irsa collect --external-id)"
}

variable "role_name" {
  type    = string
  default = "irsa-collector"
}

resource "aws_iam_role" "member" {
  name                 = var.role_name
  description          = "irsa_lib collector, read-only"
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.collector_role_arn }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = var.external_id } }
    }]
  })
}

resource "aws_iam_role_policy" "read_only" {
  name = "irsa-collector-read-only"
  role = aws_iam_role.member.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "IrsaLibReadOnlyCollector"
      Effect   = "Allow"
      Resource = "*"
      Action = [
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeRegions",
        "eks:DescribeCluster",
        "eks:DescribeNodegroup",
        "eks:DescribePodIdentityAssociation",
        "eks:ListClusters",
        "eks:ListNodegroups",
        "eks:ListPodIdentityAssociations",
        "iam:GetAccountAuthorizationDetails",
        "iam:GetOpenIDConnectProvider",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:ListOpenIDConnectProviders",
        "iam:ListRoles",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListGrants",
        "kms:ListKeys",
        "kms:ListResourceTags",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:ListSecrets",
        "ssm:DescribeParameters",
        "ssm:GetResourcePolicies",
        "ssm:ListTagsForResource",
      ]
    }]
  })
}

output "member_role_arn" {
  value = aws_iam_role.member.arn
}
