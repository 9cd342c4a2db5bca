from django import forms
from django.template.defaultfilters import filesizeformat

from .models import Greeting

#: Uploads go to the state directory of one host: keep them small.
MAX_ATTACHMENT_SIZE = 5 * 1024 * 1024


class GreetingForm(forms.ModelForm):
    class Meta:
        model = Greeting
        fields = ["text", "attachment"]
        labels = {"text": "Your greeting", "attachment": "A file (optional)"}

    def clean_attachment(self):
        attachment = self.cleaned_data.get("attachment")
        if attachment and attachment.size > MAX_ATTACHMENT_SIZE:
            raise forms.ValidationError(f"At most {filesizeformat(MAX_ATTACHMENT_SIZE)}, please.")
        return attachment
