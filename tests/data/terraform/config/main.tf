# The configuration plan_actions.json was planned from (hand-written alongside it).

provider "aws" {
  region = "us-east-1"
}

variable "token" {
  type      = string
  sensitive = true
}

locals {
  issuer = "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
  app_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/${local.issuer}" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringLike   = { "${local.issuer}:sub" = "system:serviceaccount:app:*" }
        StringEquals = { "${local.issuer}:aud" = "sts.amazonaws.com" }
      }
    }]
  })
  app_read = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "ssm:GetParameter", Resource = "arn:aws:ssm:us-east-1:111122223333:parameter/app/*" },
      { Effect = "Allow", Action = "kms:Decrypt", Resource = "arn:aws:kms:us-east-1:111122223333:key/app-key" },
    ]
  })
}

resource "aws_iam_role" "app" {
  name               = "app-role"
  assume_role_policy = local.app_trust

  inline_policy {
    name   = "p0"
    policy = local.app_read
  }
}

resource "aws_kms_key" "app" {
  description = "app"
}

resource "aws_kms_key" "app2" {
  description         = "second key of the app service"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AppDecrypt"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.app.arn }
      Action    = "kms:Decrypt"
      Resource  = "*"
    }]
  })
}

resource "aws_ssm_parameter" "token" {
  name   = "/app/token"
  type   = "SecureString"
  key_id = aws_kms_key.app2.arn
  value  = var.token
}
