from celery import shared_task

from . import services


@shared_task(name="campaigns.tasks.run_deadline_engine")
def run_deadline_engine() -> dict:
    run = services.deadline_engine_run()
    return {"run": run.pk, "opened": run.opened, "closed": run.closed}
