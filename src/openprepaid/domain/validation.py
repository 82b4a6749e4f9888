"""Model validation with the database's check constraints asked in one query.

``Model.full_clean()`` validates each ``CheckConstraint`` with a query of its own. A meter has
six, a gateway five; importing a mall's configuration then spends half its time asking them one
by one. :class:`OneQueryChecks` asks all of a model's check constraints together and only falls
back to asking them one by one, for the messages, when the combined answer is "no" (or when
some fields already failed, so that their constraints are skipped as Django skips them).
"""

from __future__ import annotations

from functools import reduce
from operator import and_

from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import CheckConstraint


class OneQueryChecks(models.Model):
    class Meta:
        abstract = True

    def validate_constraints(self, exclude=None) -> None:
        checks = [c for c in self._meta.constraints if isinstance(c, CheckConstraint)]
        if exclude or len(checks) < 2:
            return super().validate_constraints(exclude=exclude)
        using = router.db_for_write(type(self), instance=self)
        combined = models.Q(reduce(and_, (models.Q(c.condition) for c in checks)))
        against = self._get_field_expression_map(meta=self._meta, exclude=exclude)
        if not combined.check(against, using=using):
            return super().validate_constraints(exclude=exclude)
        # Every check holds; the other (unique) constraints are asked as Django asks them.
        errors: dict = {}
        for constraint in self._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                continue
            try:
                constraint.validate(type(self), self, exclude=exclude, using=using)
            except ValidationError as error:
                fields = getattr(constraint, "fields", ())
                if error.code == "unique" and len(fields) == 1:
                    errors.setdefault(fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
        return None
