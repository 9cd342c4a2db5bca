from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("guestbook", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="greeting",
            name="attachment",
            field=models.FileField(blank=True, upload_to="guestbook/%Y/%m/"),
        ),
    ]
