resource "aws_iam_policy" "shared" {
  name   = "shared"
  policy = data.aws_iam_policy_document.shared.json

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_iam_role" "batch" {
  name = "batch-role"
  path = "/jobs/"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = aws_iam_role.app.arn }, Action = "sts:AssumeRole" }]
  })
  managed_policy_arns = [aws_iam_policy.shared.arn]
}
