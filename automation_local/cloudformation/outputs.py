"""The backbone stack's outputs the local tools read (the interface template.yaml's
`Outputs` give, as the README documents them), in one typed value.

Each field's output key is the field's name in CamelCase (`order_queue_url` is
`OrderQueueUrl`), so no key is spelled out anywhere else; a template without one of them
fails here, naming the output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields


def output_key(field_name: str) -> str:
    return "".join(part.title() for part in field_name.split("_"))


@dataclass(frozen=True)
class BackboneOutputs:
    order_queue_url: str
    result_queue_url: str
    order_dead_letter_queue_url: str
    result_dead_letter_queue_url: str
    orders_table_name: str
    archive_bucket_name: str
    webhook_secret_name: str

    @classmethod
    def of(cls, outputs: Mapping[str, str]) -> BackboneOutputs:
        missing = [output_key(f.name) for f in fields(cls) if output_key(f.name) not in outputs]
        if missing:
            raise KeyError(f"the stack has no output {', '.join(missing)}")
        return cls(**{f.name: outputs[output_key(f.name)] for f in fields(cls)})

    @property
    def queues(self) -> dict[str, str]:
        """Short name -> URL of the two queues and their DLQs (`order`, `order-dlq`, ...)."""
        return {
            "order": self.order_queue_url,
            "result": self.result_queue_url,
            "order-dlq": self.order_dead_letter_queue_url,
            "result-dlq": self.result_dead_letter_queue_url,
        }

    @property
    def dead_letter_queue_urls(self) -> list[str]:
        return [self.order_dead_letter_queue_url, self.result_dead_letter_queue_url]

    def queue_pair(self, queue: str) -> tuple[str, str]:
        """(DLQ URL, source queue URL) of `order` or `result`: what a redrive moves between."""
        return self.queues[f"{queue}-dlq"], self.queues[queue]
