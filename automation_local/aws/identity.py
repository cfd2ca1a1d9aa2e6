"""The Region and account of everything local: the emulator's clients, the translated
template's pseudo parameters, the Lambda contexts and events. One place, so an ARN built
anywhere names the same account and Region (the account is moto's default one)."""

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
