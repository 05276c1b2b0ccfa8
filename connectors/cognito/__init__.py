"""Amazon Cognito connector (boto3 ``cognito-idp``, read-only IAM actions, an access key
given as secret references).

Entry point ``cognito``; see docs/cognito.md for the IAM policy and the methodology.
"""

from connectors.cognito.connector import CognitoConnector

__all__ = ["CognitoConnector"]
