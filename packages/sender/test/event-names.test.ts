import { describe, expect, it } from 'vitest';
import { customEventName, defaultEventNames, resolveEventNames } from '../src/event-names.js';

describe('defaultEventNames', () => {
  const cases: Array<{ key: string; meta: string; tiktok: string }> = [
    { key: 'lead', meta: 'Lead', tiktok: 'Lead' },
    { key: 'new_leads', meta: 'Lead', tiktok: 'Lead' },
    { key: 'sale', meta: 'Purchase', tiktok: 'Purchase' },
    { key: 'sales', meta: 'Purchase', tiktok: 'Purchase' },
    { key: 'purchase', meta: 'Purchase', tiktok: 'Purchase' },
    { key: 'order', meta: 'Purchase', tiktok: 'Purchase' },
    { key: 'booked', meta: 'Schedule', tiktok: 'Schedule' },
    { key: 'booked_call', meta: 'Schedule', tiktok: 'Schedule' },
    { key: 'sales_call', meta: 'Schedule', tiktok: 'Schedule' },
    { key: 'schedule', meta: 'Schedule', tiktok: 'Schedule' },
    { key: 'appointment', meta: 'Schedule', tiktok: 'Schedule' },
    { key: 'opportunity', meta: 'Schedule', tiktok: 'Schedule' },
    { key: 'qualified', meta: 'QualifiedLead', tiktok: 'ApplicationApproval' },
    { key: 'qualified_lead', meta: 'QualifiedLead', tiktok: 'ApplicationApproval' },
    { key: 'mql', meta: 'QualifiedLead', tiktok: 'ApplicationApproval' },
    { key: 'SQL', meta: 'QualifiedLead', tiktok: 'ApplicationApproval' },
    { key: 'signup', meta: 'CompleteRegistration', tiktok: 'CompleteRegistration' },
    { key: 'sign-up', meta: 'CompleteRegistration', tiktok: 'CompleteRegistration' },
    { key: 'register', meta: 'CompleteRegistration', tiktok: 'CompleteRegistration' },
    { key: 'contact', meta: 'Contact', tiktok: 'Contact' },
    { key: 'demo_done', meta: 'DemoDone', tiktok: 'DemoDone' },
    { key: 'trialStarted', meta: 'TrialStarted', tiktok: 'TrialStarted' },
  ];
  for (const { key, meta, tiktok } of cases) {
    it(`maps ${key} to ${meta} / ${tiktok}`, () => {
      expect(defaultEventNames(key)).toEqual({ meta, tiktok });
    });
  }
});

describe('customEventName', () => {
  it('builds PascalCase from any separators', () => {
    expect(customEventName('won deal--final')).toBe('WonDealFinal');
  });

  it('keeps Meta custom names within 50 characters', () => {
    expect(customEventName('x'.repeat(80))).toHaveLength(50);
  });
});

describe('resolveEventNames', () => {
  it('prefers the stage overrides', () => {
    expect(
      resolveEventNames('lead', { meta_event_name: 'SubmitApplication', tiktok_event_name: 'SubmitForm', google_conversion_action_id: '555' }),
    ).toEqual({ meta: 'SubmitApplication', tiktok: 'SubmitForm', google_conversion_action_id: '555' });
  });

  it('falls back per field', () => {
    expect(resolveEventNames('sale', { tiktok_event_name: 'CompletePayment' })).toEqual({ meta: 'Purchase', tiktok: 'CompletePayment' });
  });
});
