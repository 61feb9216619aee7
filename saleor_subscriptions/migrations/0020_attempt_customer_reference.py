from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('saleor_subscriptions', '0019_event_types'),
    ]

    operations = [
        migrations.AddField(
            model_name='paymentattempt',
            name='customer_reference',
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
    ]
