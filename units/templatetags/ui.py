"""Small template helpers for Bootstrap markup, so each form field renders the same way."""

from django import forms, template

from units.selectors import attach_committee_names

register = template.Library()


@register.filter
def bootstrap_widget(bound_field):
    """The field's widget with Bootstrap's classes, marked invalid when it has errors."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
        css = "form-select"
    elif isinstance(widget, (forms.CheckboxInput, forms.RadioSelect)):
        css = "form-check-input"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    attrs = {"class": css}
    if bound_field.errors:
        attrs["aria-invalid"] = "true"
    if bound_field.help_text or bound_field.errors:
        attrs["aria-describedby"] = f"{bound_field.auto_id}_help"
    return bound_field.as_widget(attrs=attrs)


@register.filter
def is_radio(bound_field) -> bool:
    return isinstance(bound_field.field.widget, forms.RadioSelect)


@register.filter
def is_file(bound_field) -> bool:
    return isinstance(bound_field.field.widget, forms.FileInput)


@register.filter
def english_only(fields):
    return [f for f in fields if f.name.endswith("_en")]


@register.filter
def not_english(fields):
    return [f for f in fields if not f.name.endswith("_en")]


@register.filter
def committee_name(unit) -> str:
    """The committee a unit belongs to ("Đảng bộ phường Cát Linh"), for pages about one unit;
    lists attach it to every unit in one query (`units.selectors.attach_committee_names`)."""
    if not hasattr(unit, "committee_name"):
        attach_committee_names([unit])
    return unit.committee_name
